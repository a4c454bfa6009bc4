"""The lab chatbots: bot scripts (YAML, :mod:`.model` and :mod:`.loader`), the script
interpreter (:mod:`.engine`), the payloads it builds (:mod:`.payloads`) and the sample
media they show (:mod:`.media`). The bots' SIP side and HTTP servers are
:mod:`rcs_terminal.lab.bot_agent`, :mod:`rcs_terminal.lab.botinfo_server` and
:mod:`rcs_terminal.lab.maap`, assembled by :mod:`rcs_terminal.lab.chatbot_platform`.

The ``*.yaml`` files of this package are the built-in bots.
"""
