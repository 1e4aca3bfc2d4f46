"""The analytics lake in the packaged template: Glue tables of tables.py's columns, Firehose
streams partitioning by day into the KMS-encrypted lake bucket as Parquet, an Athena workgroup
with a bytes-scanned limit, and a landing worker that may put records on those streams only.

moto's CloudFormation creates none of the Glue, Firehose or Athena resources (the local stack
creates the first two through their APIs, infra/local/lake_resources.py), so the template itself
is the thing to check.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.lake import tables
from tests.infra.cfn import as_list, of_type, role_statements

pytestmark = pytest.mark.infra

Template = dict[str, Any]


def _by_table(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    found = {}
    for resource in of_type(template, kind).values():
        properties = resource["Properties"]
        if kind == "AWS::Glue::Table":
            found[properties["TableInput"]["Name"]] = properties
        else:
            schema = properties["ExtendedS3DestinationConfiguration"][
                "DataFormatConversionConfiguration"
            ]["SchemaConfiguration"]
            found[schema["TableName"]] = properties
    return found


def test_every_lake_table_is_a_glue_table_of_its_columns_projected_by_day(
    template: Template,
) -> None:
    # Given the Glue tables of the template
    glue = _by_table(template, "AWS::Glue::Table")

    # Then there is one per lake table, with exactly its columns, partitioned by a projected dt
    assert set(glue) == set(tables.COLUMNS)
    for name, columns in tables.COLUMNS.items():
        table = glue[name]["TableInput"]
        described = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
        assert described == list(columns), name
        assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
        parameters = table["Parameters"]
        assert parameters["projection.enabled"] == "true"
        assert parameters["projection.dt.type"] == "date"
        assert parameters["projection.dt.format"] == "yyyy-MM-dd"
        assert "ParquetHiveSerDe" in table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]


def test_every_lake_table_is_fed_by_a_stream_partitioning_by_day_into_parquet(
    template: Template,
) -> None:
    # Given the delivery streams of the template
    streams = _by_table(template, "AWS::KinesisFirehose::DeliveryStream")

    # Then one per table writes Parquet under lake/<table>/dt=<the record's dt>/ with our key
    assert set(streams) == set(tables.COLUMNS)
    for name, stream in streams.items():
        destination = stream["ExtendedS3DestinationConfiguration"]
        assert destination["BucketARN"] == {"Fn::GetAtt": ["LakeBucket", "Arn"]}
        assert destination["Prefix"] == f"lake/{name}/dt=!{{partitionKeyFromQuery:dt}}/"
        assert destination["DynamicPartitioningConfiguration"]["Enabled"] is True
        [processor] = destination["ProcessingConfiguration"]["Processors"]
        assert {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{dt: .dt}"} in (
            processor["Parameters"]
        )
        conversion = destination["DataFormatConversionConfiguration"]
        assert conversion["Enabled"] is True
        assert "ParquetSerDe" in conversion["OutputFormatConfiguration"]["Serializer"]
        assert destination["BufferingHints"]["SizeInMBs"] >= 64  # dynamic partitioning's minimum
        key = destination["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"]
        assert key == {"Fn::GetAtt": ["Key", "Arn"]}


def test_lake_bucket_is_kms_encrypted_and_private(template: Template) -> None:
    bucket = template["Resources"]["LakeBucket"]["Properties"]
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": ["Key", "Arn"]}
    assert all(bucket["PublicAccessBlockConfiguration"].values())


def test_athena_workgroup_enforces_its_results_location_and_a_scan_limit(
    template: Template,
) -> None:
    [group] = of_type(template, "AWS::Athena::WorkGroup").values()
    configuration = group["Properties"]["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == {"Ref": "LakeBytesScannedCutoff"}
    results = configuration["ResultConfiguration"]
    assert results["OutputLocation"] == {"Fn::Sub": "s3://${LakeBucket}/athena-results/"}
    assert results["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"


def test_the_landing_worker_may_put_records_on_the_lake_streams_only(template: Template) -> None:
    statements = role_statements(template, "LandInLake")
    firehose = [s for s in statements if any("firehose:" in a for a in as_list(s["Action"]))]
    assert [as_list(s["Action"]) for s in firehose] == [["firehose:PutRecordBatch"]]
    [resource] = as_list(firehose[0]["Resource"])
    assert resource["Fn::Sub"].endswith(":deliverystream/otc-${Stage}-lake-*")
    writes = {
        action
        for s in statements
        for action in as_list(s["Action"])
        if action.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete", "s3:"))
    }
    assert writes == set()
