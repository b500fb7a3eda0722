"""The request bodies of the service window (/v1/me/*): strict pydantic models, each field typed and
bounded before a service or store sees it; they are also the OpenAPI request schemas. A field that does
not fit answers 400 with its code (``error_codes``: the codes the services answered before the models)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.bills.dispute_model import DisputeReason


class _Body(BaseModel):
    # strict: "true" is not a bool, 1 is not a string; unknown fields are refused, not ignored
    model_config = ConfigDict(extra="forbid", strict=True)
    error_codes: ClassVar[dict[str, str]] = {}


class OpenAccountRequest(_Body):
    consent: bool = Field(False, description="Consent to the current pay-later terms now (or later: POST /v1/me/consent).")


class PlateRequest(_Body):
    error_codes: ClassVar[dict[str, str]] = {"plate": "malformed_plate"}
    plate: str = Field(min_length=1, max_length=16, description="The whole plate with its province, e.g. 苏B12345.", examples=["苏B12345"])


class VerifyPlateRequest(PlateRequest):
    code: str = Field(min_length=1, max_length=16, description="The 6-digit code sent to the phone on the vehicle's registration.", examples=["123456"])


class DisputeRequest(_Body):
    error_codes: ClassVar[dict[str, str]] = {"reason": "bad_reason"}
    reason: Annotated[DisputeReason, Field(strict=False)]  # its value, as JSON carries it
    detail: str = Field("", max_length=1000, description="What happened, in the citizen's words.")



class SmsCodeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    phone: str = Field(description="A mainland mobile number, 11 digits starting with 1.", examples=["13800000000"])


class PhoneLoginRequest(SmsCodeRequest):
    code: str = Field(description="The 6-digit code of the text message.")
    challenge: str = Field(description="The challenge returned when the code was sent.")


class PayTogetherRequest(_Body):
    bill_ids: list[str] = Field(min_length=1, max_length=10, description="Ids of my due bills (left the lot, not disputed) of one operator.")
    channel: str = Field(description="wechat_pay, alipay or unionpay.", examples=["alipay"])
