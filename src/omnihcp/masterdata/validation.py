"""Validators for master-data fields, each raising ``ApplicationError`` naming the field.

USCC per GB 32100-2015 (18 characters, check character over a 31-symbol alphabet); mainland
mobile numbers with ``phonenumbers``; practising licence numbers as 15 digits.
"""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_LICENCE_SHAPE = re.compile(r"^\d{15}$")


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(value: str, *, field: str = "uscc") -> str:
    code = re.sub(r"\s+", "", value).upper()
    if not _USCC_SHAPE.match(code):
        raise ApplicationError(
            _("A USCC has 18 characters: digits and capital letters except I, O, S, V, Z."),
            field=field,
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise ApplicationError(
            _("This USCC's check character is wrong; please check the code."), field=field
        )
    return code


def normalise_mobile(value: str, *, field: str = "mobile") -> str:
    """Return the 11-digit mainland mobile number, accepting +86, spaces and dashes."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ApplicationError(_("This is not a phone number."), field=field) from exc
    national = str(number.national_number)
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise ApplicationError(
            _("Enter a mainland China mobile number of 11 digits, e.g. 13812345678."), field=field
        )
    return national


def normalise_licence(value: str, *, field: str = "licence_no") -> str:
    code = re.sub(r"[\s-]+", "", value)
    if not _LICENCE_SHAPE.match(code):
        raise ApplicationError(_("A practising licence number has 15 digits."), field=field)
    return code
