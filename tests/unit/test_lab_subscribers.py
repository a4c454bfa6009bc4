from __future__ import annotations

from rcs_terminal.lab.subscribers import default_directory


def test_demo_and_lab_people_are_subscribers() -> None:
    directory = default_directory()
    demo1 = directory.by_imsi("460001234500001")
    assert demo1 is not None and demo1.auth_type == "AKA" and demo1.k is not None
    assert demo1.impi == "460001234500001@ims.mnc000.mcc460.3gppnetwork.org"
    assert demo1.sip_impu == "sip:+8613800000001@ims.mnc000.mcc460.3gppnetwork.org"
    assert directory.by_uri("tel:+8613800000001") is demo1
    assert directory.by_uri(demo1.sip_impu) is demo1
    assert directory.by_uri("sip:460001234500001@ims.mnc000.mcc460.3gppnetwork.org") is demo1
    demo2 = directory.by_imsi("460111234500002")
    assert demo2 is not None and demo2.auth_type == "Digest" and demo2.password
    assert directory.by_impi(demo2.impi) is demo2
    assert "k=" not in repr(demo1) and "password" not in repr(demo2)
    assert len(directory) >= 4
