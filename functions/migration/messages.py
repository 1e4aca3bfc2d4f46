"""What the import file worker sends the row worker: one chunk of a file's rows per message."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from shared.domain.imports import Kind, SourceRow
from shared.model import Model


class ChunkRow(Model):
    model_config = ConfigDict(frozen=True)

    row: int = Field(ge=2)  # the row's number in the file (the header is row 1)
    values: list[str]

    def source(self) -> SourceRow:
        return SourceRow(row=self.row, values=tuple(self.values))


class ChunkMessage(Model):
    """Rows ``rows`` of import ``import_id``; ``chunk`` numbers it within the file (from 1)."""

    model_config = ConfigDict(frozen=True)

    import_id: str
    kind: Kind
    chunk: int = Field(ge=1)
    columns: list[str]
    rows: list[ChunkRow] = Field(min_length=1)
