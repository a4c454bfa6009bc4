"""Identity checks and derivations of rcs_terminal.domain.sim (TS 23.003, RFC 7254/7255)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.domain import sim

digits = st.text(alphabet="0123456789", min_size=14, max_size=14)


def test_luhn_known_imei() -> None:
    # The IMEI used as the example in most descriptions of the Luhn algorithm.
    assert sim.luhn_check_digit("49015420323751") == "8"
    assert sim.is_valid_imei("490154203237518")
    assert not sim.is_valid_imei("490154203237517")


@pytest.mark.parametrize("bad", ["", "12a", "4901542032375", "4901542032375188", "٤٩٠١٥٤٢٠٣٢٣٧٥١٨"])
def test_imei_shape_is_checked(bad: str) -> None:
    assert not sim.is_valid_imei(bad)


def test_luhn_refuses_non_digits() -> None:
    with pytest.raises(ValueError):
        sim.luhn_check_digit("12x4")
    with pytest.raises(ValueError):
        sim.luhn_check_digit("")


@given(digits)
def test_luhn_completes_any_body(body: str) -> None:
    assert sim.is_valid_imei(body + sim.luhn_check_digit(body))


@given(digits, st.integers(min_value=0, max_value=14), st.integers(min_value=1, max_value=9))
def test_luhn_catches_every_single_digit_error(body: str, position: int, delta: int) -> None:
    imei = body + sim.luhn_check_digit(body)
    changed = imei[:position] + str((int(imei[position]) + delta) % 10) + imei[position + 1 :]
    assert not sim.is_valid_imei(changed)


def test_check_imei_messages_name_the_right_check_digit() -> None:
    with pytest.raises(ValueError, match="for this IMEI it is 8"):
        sim.check_imei("490154203237510")
    with pytest.raises(ValueError, match="15 digits"):
        sim.check_imei("4901542032375")
    assert sim.check_imei("490154203237518") == "490154203237518"


@pytest.mark.parametrize(
    ("mcc", "mnc", "ok"),
    [
        ("460", "00", True),
        ("460", "011", True),
        ("46", "00", False),
        ("460", "0", False),
        ("460", "0000", False),
        ("4a0", "00", False),
        ("460", "", False),
    ],
)
def test_mcc_mnc_checks(mcc: str, mnc: str, ok: bool) -> None:
    assert (sim.is_valid_mcc(mcc) and sim.is_valid_mnc(mnc)) is ok


def test_imsi_checks() -> None:
    assert sim.is_valid_imsi("460001234500001")
    assert sim.is_valid_imsi("460001234500001", "460", "00")
    assert not sim.is_valid_imsi("460001234500001", "460", "11")
    assert not sim.is_valid_imsi("46000123450000")
    assert not sim.is_valid_imsi("46000123450000x")
    with pytest.raises(ValueError, match="15 digits"):
        sim.check_imsi("4600012345")


@pytest.mark.parametrize(
    ("msisdn", "ok"),
    [
        ("+8613800000001", True),
        ("+12025550123", True),
        ("8613800000001", False),
        ("+0861380000000", False),
        ("+86 138 0000 0001", False),
        ("+123456", False),
        ("+1234567890123456", False),
        ("+86138000000O1", False),
    ],
)
def test_msisdn_is_e164(msisdn: str, ok: bool) -> None:
    assert sim.is_valid_msisdn(msisdn) is ok


def test_derived_names_pad_the_mnc() -> None:
    assert sim.pad_mnc("00") == "000"
    assert sim.pad_mnc("011") == "011"
    assert sim.config_server_fqdn("460", "00") == "config.rcs.mnc000.mcc460.pub.3gppnetwork.org"
    assert sim.config_server_fqdn("460", "11") == "config.rcs.mnc011.mcc460.pub.3gppnetwork.org"
    assert sim.config_server_fqdn("310", "410") == "config.rcs.mnc410.mcc310.pub.3gppnetwork.org"
    assert sim.home_network_domain("460", "15") == "ims.mnc015.mcc460.3gppnetwork.org"


def test_default_ims_identities() -> None:
    assert (
        sim.default_impi("460001234500001", "460", "00")
        == "460001234500001@ims.mnc000.mcc460.3gppnetwork.org"
    )
    assert (
        sim.temporary_impu("460111234500002", "460", "11")
        == "sip:460111234500002@ims.mnc011.mcc460.3gppnetwork.org"
    )
    assert sim.tel_uri("+8613800000001") == "tel:+8613800000001"


def test_sip_instance_from_imei() -> None:
    # RFC 7254's example URN; the check digit is replaced by the spare digit 0.
    imei = "90420156025763" + sim.luhn_check_digit("90420156025763")
    assert sim.imei_urn(imei) == "urn:gsma:imei:90420156-025763-0"
    assert sim.sip_instance(imei) == "<urn:gsma:imei:90420156-025763-0>"
    assert sim.imei_urn("90420156025763") == "urn:gsma:imei:90420156-025763-0"
    with pytest.raises(ValueError):
        sim.imei_urn("1234")


@pytest.mark.parametrize(
    ("mnc", "code"),
    [
        ("00", "CMCC"),
        ("02", "CMCC"),
        ("07", "CMCC"),
        ("08", "CMCC"),
        ("000", "CMCC"),
        ("01", "CU"),
        ("06", "CU"),
        ("09", "CU"),
        ("03", "CT"),
        ("05", "CT"),
        ("11", "CT"),
        ("011", "CT"),
        ("15", "CBN"),
    ],
)
def test_operator_lookup(mnc: str, code: str) -> None:
    operator = sim.operator_for("460", mnc)
    assert operator is not None
    assert operator.code == code


@pytest.mark.parametrize(
    ("mcc", "mnc"), [("460", "04"), ("460", "20"), ("001", "01"), ("460", "115")]
)
def test_operator_lookup_unknown(mcc: str, mnc: str) -> None:
    assert sim.operator_for(mcc, mnc) is None


def test_up_user_agent() -> None:
    ua = sim.up_user_agent(
        terminal_vendor="ZTE",
        terminal_model="Axon 30",
        terminal_sw_version="MyOS11.0.9",
        client_vendor="ZTE",
        client_version="RCSAndrd-2.4",
        os_name="Android",
        os_version="11",
    )
    assert ua == (
        "CPM-client/OMA2.2 RCS-client/UP_2.4 term-ZTE/Axon 30-MyOS11.0.9 "
        "client-ZTE/RCSAndrd-2.4 OS-Android/11"
    )
