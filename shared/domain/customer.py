"""The customer account an order is placed for."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    legal_name: str
    billing_email: EmailStr
    currency: str
