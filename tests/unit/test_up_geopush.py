"""Geolocation push XML and the geo: text fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import up

CORPUS = Path(__file__).parents[1] / "data" / "payloads"


def test_full_document() -> None:
    push = up.parse_geopush((CORPUS / "geopush" / "geopush_circle.xml").read_bytes())
    assert push == up.LocationPush(
        entity="tel:+8613800000001",
        id="loc-20240618-01",
        label="天安门广场",
        latitude=39.908722,
        longitude=116.397499,
        radius=25.5,
        until="2024-06-18T12:00:00+08:00",
        timestamp="2024-06-18T10:30:00+08:00",
        crs="wgs84",
    )


def test_point_without_radius_and_the_misspelt_envelope() -> None:
    point = up.parse_geopush((CORPUS / "geopush" / "geopush_point_minimal.xml").read_bytes())
    assert (point.latitude, point.longitude, point.radius, point.entity) == (
        -33.8568,
        151.2153,
        None,
        None,
    )
    old = up.parse_geopush((CORPUS / "geopush" / "geopush_rcsenveloppe.xml").read_bytes())
    assert (old.entity, old.id, old.label, old.radius) == (
        "tel: +8613800000002",
        "a1233",
        "Location",
        100.0,
    )
    assert old.until == "2024-07-01T00:00:00Z"


def test_until_falls_back_to_retention_expiry() -> None:
    doc = (
        b'<rcsenvelope xmlns="urn:gsma:params:xml:ns:rcs:rcs:geolocation"><rcspushlocation>'
        b"<pos>1 2</pos><retention-expiry> 2025-01-01T00:00:00Z </retention-expiry>"
        b"</rcspushlocation></rcsenvelope>"
    )
    assert up.parse_geopush(doc).until == "2025-01-01T00:00:00Z"


def test_other_datums_are_kept() -> None:
    doc = (
        b"<rcsenvelope><rcspushlocation><Circle srsName='EPSG:4326'><pos>1 2</pos></Circle>"
        b"</rcspushlocation></rcsenvelope>"
    )
    assert up.parse_geopush(doc).crs == "wgs84"
    assert up.parse_geopush(doc.replace(b"EPSG:4326", b"urn:x:gcj02")).crs == "urn:x:gcj02"


def test_builder_output() -> None:
    body = up.build_geopush(
        39.9087,
        116.3975,
        radius=10,
        label="天安门 & 广场",
        entity="tel:+8613800000001",
        id="l1",
        until="2024-06-18T12:00:00+08:00",
        timestamp="2024-06-18T10:00:00+08:00",
    ).decode()
    assert '<rcsenvelope xmlns="urn:gsma:params:xml:ns:rcs:rcs:geolocation"' in body
    assert 'label="天安门 &amp; 广场"' in body
    assert '<gs:Circle srsName="urn:ogc:def:crs:EPSG::4326">' in body
    assert "<gml:pos>39.9087 116.3975</gml:pos>" in body
    assert '<gs:radius uom="urn:ogc:def:uom:EPSG::9001">10</gs:radius>' in body
    assert "<gp:retention-expiry>2024-06-18T12:00:00+08:00</gp:retention-expiry>" in body
    small = up.build_geopush(1e-05, -0.0).decode()
    assert "<gml:pos>0.00001 -0</gml:pos>" in small and "gml:Point" in small


def test_geo_uri_fallback() -> None:
    text = (CORPUS / "geo" / "geo_gcj02.txt").read_text()
    location = up.parse_geo_uri(text)
    assert (location.latitude, location.longitude, location.radius) == (39.908722, 116.397499, 10.0)
    assert (location.crs, location.label) == ("gcj02", "天安门广场")
    assert location.to_geo_uri() == text.strip()
    plain = up.parse_geo_uri((CORPUS / "geo" / "geo_wgs84_plain.txt").read_text())
    assert (plain.crs, plain.radius, plain.label) == ("wgs84", None, None)
    assert plain.to_geo_uri() == "geo:31.2397,121.4998;crs=wgs84"
    loose = up.parse_geo_uri((CORPUS / "geo" / "geo_altitude_unencoded_label.txt").read_text())
    assert (loose.latitude, loose.radius, loose.label) == (22.543096, 50.0, "深圳市民中心")


def test_xml_location_to_geo_text() -> None:
    push = up.parse_geopush((CORPUS / "geopush" / "geopush_circle.xml").read_bytes())
    assert push.to_geo_uri() == (
        "geo:39.908722,116.397499;crs=wgs84;u=25.5;rcs-l=%E5%A4%A9%E5%AE%89%E9%97%A8%E5%B9%BF%E5%9C%BA"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("geo:", 4),
        ("geo:1,2,3,4", 4),
        ("geo:1,nan", "longitude"),
        ("geo:1,2;u=1e400", "u"),
        ("geo:1,2;rcs-l=%FF", "rcs-l"),
        ("g" * 5000, None),
    ],
)
def test_bad_geo_text(text: str, where: int | str | None) -> None:
    with pytest.raises(PayloadParseError) as caught:
        up.parse_geo_uri(text)
    assert caught.value.where == where


@pytest.mark.parametrize(
    "doc",
    [
        b"<rcsenvelope><rcspushlocation><pos>1</pos></rcspushlocation></rcsenvelope>",
        b"<rcsenvelope><rcspushlocation><pos>1 2</pos><radius>far</radius>"
        b"</rcspushlocation></rcsenvelope>",
        b"<rcsenvelope><rcspushlocation><pos>1e999 2</pos></rcspushlocation></rcsenvelope>",
        b"<rcspushlocation><pos>1 2</pos></rcspushlocation>",
    ],
)
def test_bad_documents(doc: bytes) -> None:
    with pytest.raises(PayloadParseError):
        up.parse_geopush(doc)
