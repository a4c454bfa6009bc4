"""Hypothesis round trips of the XML payload models (FT-HTTP descriptor, geolocation push)
and of the geo: text fallback: model -> wire form -> parse gives the same model."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.protocol import up
from rcs_terminal.protocol.up.geopush import GCJ02, WGS84

size = st.integers(min_value=0, max_value=2**40)

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cn"))
xml_text = st.text(_chars, max_size=30).map(lambda s: _NOT_XML.sub("", s).strip())
"""Element content: parsers strip surrounding whitespace, so generated values have none."""
xml_attr = st.text(_chars | st.sampled_from("\t\n\r"), max_size=30).map(
    lambda s: _NOT_XML.sub("", s)
)
"""Attribute values keep their whitespace exactly (the builders write it as char refs)."""
file_infos = st.builds(
    up.FileInfo,
    size=size,
    content_type=xml_text,
    url=xml_attr,
    until=st.none() | xml_attr,
    name=st.none() | xml_text,
)


@given(
    file_infos,
    st.none() | file_infos,
    st.none() | xml_attr,
    st.none() | st.integers(min_value=0, max_value=10**9),
    st.none() | xml_text,
    st.none() | xml_text,
)
def test_fthttp_round_trips(
    file: up.FileInfo,
    thumbnail: up.FileInfo | None,
    disposition: str | None,
    playing_length: int | None,
    branded_url: str | None,
    file_exist: str | None,
) -> None:
    body = up.build_fthttp(
        file,
        thumbnail,
        disposition=disposition,
        playing_length=playing_length,
        branded_url=branded_url,
        file_exist=file_exist,
    )
    parsed = up.parse_fthttp(body)
    assert parsed == up.FileTransferInfo(
        file=file,
        thumbnail=thumbnail,
        disposition=disposition,
        playing_length=playing_length,
        branded_url=branded_url,
        file_exist=file_exist,
    )


latitude = st.floats(min_value=-90, max_value=90).map(lambda x: round(x, 8))
longitude = st.floats(min_value=-180, max_value=180).map(lambda x: round(x, 8))
radius = st.floats(min_value=0, max_value=10**6).map(lambda x: round(x, 3))


@given(
    st.builds(
        up.LocationPush,
        entity=st.none() | xml_attr,
        id=st.none() | xml_attr,
        label=st.none() | xml_attr,
        latitude=latitude,
        longitude=longitude,
        radius=st.none() | radius,
        until=st.none() | xml_attr,
        timestamp=st.none() | xml_text,
        crs=st.sampled_from([WGS84, GCJ02]),
    )
)
def test_geopush_round_trips(location: up.LocationPush) -> None:
    assert up.parse_geopush(location.to_xml()) == location


@given(
    latitude,
    longitude,
    st.none() | radius,
    st.none() | st.text(max_size=20),
    st.sampled_from([WGS84, GCJ02]),
)
def test_geo_uri_round_trips(
    lat: float, lon: float, rad: float | None, label: str | None, crs: str
) -> None:
    location = up.LocationPush(latitude=lat, longitude=lon, radius=rad, label=label, crs=crs)
    assert up.parse_geo_uri(location.to_geo_uri()) == location
