import pytest
from cryptography.exceptions import InvalidTag

from omnihcp.core import pi


def test_encrypted_phone_reads_back_and_never_contains_the_number():
    token = pi.encrypt("13812345678")
    assert "13812345678" not in token
    assert pi.decrypt(token) == "13812345678"


def test_the_same_phone_encrypts_differently_each_time_but_hashes_alike():
    assert pi.encrypt("13812345678") != pi.encrypt("13812345678")
    assert pi.blind_index("13812345678") == pi.blind_index("13812345678")
    assert pi.blind_index("13812345678") != pi.blind_index("13812345679")


def test_a_tampered_ciphertext_is_refused():
    token = pi.encrypt("13812345678")
    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    with pytest.raises((InvalidTag, ValueError)):
        pi.decrypt(tampered)


def test_masks_show_only_what_a_page_may_show():
    assert pi.mask_phone("13812345678") == "138****5678"
    assert pi.mask_licence("110330000012345") == "11*********2345"
    assert pi.encrypt("") == ""
    assert pi.blind_index("") == ""
