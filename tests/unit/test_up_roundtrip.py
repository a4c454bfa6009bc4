"""Hypothesis round trips of the JSON payload models: model -> wire form -> parse gives the
same model (the builders the lab and the tests use write what the parsers read). The XML
documents are in test_up_roundtrip_xml.py."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.protocol import up

text = st.text(max_size=16)
opt_text = st.none() | text
size = st.integers(min_value=0, max_value=2**40)
coordinate = st.floats(min_value=-180, max_value=180, allow_nan=False)
fonts = st.lists(st.sampled_from(up.FontStyle), max_size=3).map(tuple)

action_kinds = st.one_of(
    st.builds(
        up.OpenUrl,
        text,
        st.sampled_from(up.UrlApplication),
        st.none() | st.sampled_from(up.ViewMode),
        opt_text,
        opt_text,
    ),
    st.builds(up.DialPhoneNumber, text, opt_text),
    st.builds(up.DialEnrichedCall, text, opt_text, opt_text),
    st.builds(up.DialVideoCall, text, opt_text),
    st.builds(up.ShowLocation, coordinate, coordinate, opt_text, opt_text, opt_text),
    st.builds(up.ShowLocation, st.none(), st.none(), opt_text, text, opt_text),
    st.builds(up.RequestLocationPush),
    st.builds(up.CreateCalendarEvent, text, text, text, opt_text, opt_text),
    st.builds(up.ComposeTextMessage, text, text),
    st.builds(up.ComposeRecordingMessage, text, st.sampled_from(up.RecordingType)),
    st.builds(up.RequestDeviceSpecifics),
    st.builds(up.DisableAnonymization),
    st.builds(up.EnableDisplayedNotifications),
)
suggestions = st.builds(up.Reply, text, opt_text) | st.builds(
    up.Action, text, opt_text, action_kinds
)
chip_tuples = st.lists(suggestions, max_size=3).map(tuple)
media = st.builds(
    up.Media,
    url=text,
    content_type=text,
    file_size=st.none() | size,
    thumbnail_url=opt_text,
    thumbnail_content_type=opt_text,
    thumbnail_file_size=st.none() | size,
    height=st.none() | st.sampled_from(up.MediaHeight),
    content_description=opt_text,
)
contents = st.builds(up.CardContent, st.none() | media, opt_text, opt_text, chip_tuples)
cards = st.builds(
    up.GeneralPurposeCard,
    st.builds(
        up.CardLayout,
        st.sampled_from(up.CardOrientation),
        st.none() | st.sampled_from(up.ImageAlignment),
        fonts,
        fonts,
        opt_text,
    ),
    contents,
)
carousels = st.builds(
    up.Carousel,
    st.builds(up.CarouselLayout, st.sampled_from(up.CardWidth), fonts, fonts, opt_text),
    st.lists(contents, max_size=3).map(tuple),
)
botmessages = st.builds(up.BotMessage, card=cards) | st.builds(up.BotMessage, carousel=carousels)
menu_entries = st.recursive(
    suggestions,
    lambda children: st.builds(
        up.Submenu, text, st.lists(children, min_size=0, max_size=3).map(tuple)
    ),
    max_leaves=4,
)
menus = st.builds(up.Menu, st.lists(menu_entries, max_size=3).map(tuple))


@given(suggestions)
def test_chip_round_trips_through_a_chip_list(suggestion: up.Suggestion) -> None:
    chips = up.ChipList((suggestion,))
    assert up.parse_chip_list(chips.to_json()) == chips
    assert up.parse_suggestion_list(chips.to_dict()) == [suggestion]


@given(suggestions)
def test_suggestion_response_copies_label_and_postback(suggestion: up.Suggestion) -> None:
    response = up.parse_suggestion_response(up.build_suggestion_response(suggestion))
    assert response.display_text == suggestion.display_text
    assert response.postback_data == suggestion.postback_data
    assert response.response_type == ("reply" if isinstance(suggestion, up.Reply) else "action")
    assert up.parse_suggestion_response(response.to_json()) == response


@given(botmessages)
def test_botmessage_round_trips(message: up.BotMessage) -> None:
    assert up.parse_botmessage(message.to_json()) == message
    assert up.parse_botmessage(message.to_dict()) == message
    assert up.parse_botmessage(message.to_json().decode()) == message


@given(menus)
def test_menu_round_trips(menu: up.Menu) -> None:
    assert up.parse_menu(menu.to_json()) == menu


@given(
    st.builds(
        up.BotInfo,
        service_id=opt_text,
        name=opt_text,
        description=opt_text,
        logo_url=opt_text,
        colour=opt_text,
        verified=st.none() | st.booleans(),
        verified_by=opt_text,
        expires=opt_text,
        categories=st.lists(text, max_size=3).map(tuple),
        website=opt_text,
        tc_page=opt_text,
        sms=opt_text,
        email=opt_text,
        tel=opt_text,
        address=opt_text,
        background_image=opt_text,
        persistent_menu=st.none() | menus,
    )
)
def test_botinfo_round_trips(info: up.BotInfo) -> None:
    assert up.parse_botinfo(info.to_json()) == info


@given(
    st.builds(
        up.DeviceSpecifics,
        device_model=opt_text,
        platform_version=opt_text,
        client_vendor=opt_text,
        client_version=opt_text,
        battery_remaining_minutes=st.none() | st.integers(min_value=0, max_value=10**6),
    )
)
def test_device_specifics_round_trip(specifics: up.DeviceSpecifics) -> None:
    assert up.parse_shared_client_data(specifics.to_json()) == specifics
