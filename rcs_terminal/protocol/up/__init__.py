"""UP 2.4 chatbot payload models: what a 5G Message handset receives from chatbots and
sends back (GSMA RCC.07 schemas as deployed in China; formats.md §1-§8).

Each module owns one document type, parsed by a hand-written function into frozen
dataclasses that serialise back to the canonical wire form (``to_dict``/``to_json``, or
``to_xml`` for the XML documents):

- :mod:`.botmessage`: rich cards and carousels;
- :mod:`.suggestions`: chips (replies and every action kind), chip lists, the client's
  suggestion response;
- :mod:`.menu`: the persistent menu;
- :mod:`.botinfo`: chatbot information;
- :mod:`.sharedclientdata`: device specifics;
- :mod:`.fthttp`: the FT-HTTP file descriptor;
- :mod:`.geopush`: geolocation push and its ``geo:`` text fallback;
- :mod:`.contenttypes`: MIME type constants and :func:`~.contenttypes.detect`.

Parsers raise only :class:`~rcs_terminal.errors.PayloadParseError` (with a JSON path or
element path in ``where``); tolerated noise is listed in the models' ``warnings``.
"""

from rcs_terminal.protocol.up._json import PayloadWarning
from rcs_terminal.protocol.up.botinfo import BotInfo, build_botinfo, parse_botinfo
from rcs_terminal.protocol.up.botmessage import (
    BotMessage,
    CardContent,
    CardLayout,
    CardOrientation,
    CardWidth,
    Carousel,
    CarouselLayout,
    FontStyle,
    GeneralPurposeCard,
    ImageAlignment,
    Media,
    MediaHeight,
    parse_botmessage,
)
from rcs_terminal.protocol.up.contenttypes import detect
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo, build_fthttp, parse_fthttp
from rcs_terminal.protocol.up.geopush import (
    LocationPush,
    build_geopush,
    parse_geo_uri,
    parse_geopush,
)
from rcs_terminal.protocol.up.menu import Menu, MenuEntry, Submenu, parse_menu
from rcs_terminal.protocol.up.sharedclientdata import (
    DeviceSpecifics,
    build_device_specifics,
    parse_shared_client_data,
)
from rcs_terminal.protocol.up.suggestions import (
    Action,
    ActionKind,
    ChipList,
    ComposeRecordingMessage,
    ComposeTextMessage,
    CreateCalendarEvent,
    DialEnrichedCall,
    DialPhoneNumber,
    DialVideoCall,
    DisableAnonymization,
    EnableDisplayedNotifications,
    OpenUrl,
    RecordingType,
    Reply,
    RequestDeviceSpecifics,
    RequestLocationPush,
    ShowLocation,
    Suggestion,
    SuggestionResponse,
    UrlApplication,
    ViewMode,
    build_suggestion_response,
    parse_chip_list,
    parse_suggestion_list,
    parse_suggestion_response,
)

__all__ = [
    "Action",
    "ActionKind",
    "BotInfo",
    "BotMessage",
    "CardContent",
    "CardLayout",
    "CardOrientation",
    "CardWidth",
    "Carousel",
    "CarouselLayout",
    "ChipList",
    "ComposeRecordingMessage",
    "ComposeTextMessage",
    "CreateCalendarEvent",
    "DeviceSpecifics",
    "DialEnrichedCall",
    "DialPhoneNumber",
    "DialVideoCall",
    "DisableAnonymization",
    "EnableDisplayedNotifications",
    "FileInfo",
    "FileTransferInfo",
    "FontStyle",
    "GeneralPurposeCard",
    "ImageAlignment",
    "LocationPush",
    "Media",
    "MediaHeight",
    "Menu",
    "MenuEntry",
    "OpenUrl",
    "PayloadWarning",
    "RecordingType",
    "Reply",
    "RequestDeviceSpecifics",
    "RequestLocationPush",
    "ShowLocation",
    "Submenu",
    "Suggestion",
    "SuggestionResponse",
    "UrlApplication",
    "ViewMode",
    "build_botinfo",
    "build_device_specifics",
    "build_fthttp",
    "build_geopush",
    "build_suggestion_response",
    "detect",
    "parse_botinfo",
    "parse_botmessage",
    "parse_chip_list",
    "parse_fthttp",
    "parse_geo_uri",
    "parse_geopush",
    "parse_menu",
    "parse_shared_client_data",
    "parse_suggestion_list",
    "parse_suggestion_response",
]
