"""Standardisation of source records before matching (traditional → simplified with OpenCC,
full-width → half-width, hospital-name normalisation, addresses with cpca, titles,
departments and phone numbers). Every function is pure: same input, same output."""

from omnihcp.masterdata.standardise.address import Address, parse_address
from omnihcp.masterdata.standardise.dictionaries import department_code, title_code
from omnihcp.masterdata.standardise.hospital import (
    HospitalName,
    hospital_city,
    hospital_core,
    hospital_name,
    hospital_numerals,
)
from omnihcp.masterdata.standardise.text import clean_text, person_name, phone_digits

__all__ = [
    "Address",
    "HospitalName",
    "clean_text",
    "department_code",
    "hospital_city",
    "hospital_core",
    "hospital_name",
    "hospital_numerals",
    "parse_address",
    "person_name",
    "phone_digits",
    "title_code",
]
