"""The request bodies of the service window (/v1/me/*), as pydantic models for the
OpenAPI document. The services parse the same fields and answer a 400 with a code when one is wrong."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.bills.dispute_model import DisputeReason


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OpenAccountRequest(_Body):
    consent: bool = Field(False, description="Consent to the current pay-later terms now (or later: POST /v1/me/consent).")


class PlateRequest(_Body):
    plate: str = Field(description="The whole plate with its province, e.g. 苏B12345.", examples=["苏B12345"])


class VerifyPlateRequest(PlateRequest):
    code: str = Field(description="The 6-digit code sent to the phone on the vehicle's registration.", examples=["123456"])


class DisputeRequest(_Body):
    reason: DisputeReason
    detail: str = Field("", max_length=1000, description="What happened, in the citizen's words.")



class SmsCodeRequest(_Body):
    phone: str = Field(description="A mainland mobile number, 11 digits starting with 1.", examples=["13800000000"])


class PhoneLoginRequest(SmsCodeRequest):
    code: str = Field(description="The 6-digit code of the text message.")
    challenge: str = Field(description="The challenge returned when the code was sent.")


class PayTogetherRequest(_Body):
    bill_ids: list[str] = Field(min_length=1, max_length=10, description="Ids of my due bills (left the lot, not disputed) of one operator.")
    channel: str = Field(description="wechat_pay, alipay or unionpay.", examples=["alipay"])
