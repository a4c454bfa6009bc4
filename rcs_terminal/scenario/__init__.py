"""Headless conformance runs: YAML scenarios, the runner, reports, the Python API.

- :mod:`.model` (with :mod:`.step_models`, :mod:`.expectations`, :mod:`.variables`,
  :mod:`.issues`, :mod:`.yamlread`): strict scenario files;
- :mod:`.steps`, :mod:`.matchers`, :mod:`.trace_steps`, :mod:`.lab_control`: what steps do
  and how expectations are matched;
- :mod:`.runner` and :mod:`.worker`: isolation and concurrency; :mod:`.results`;
- :mod:`.report` (JUnit XML, JSON) and :mod:`.progress` (Rich on stderr);
- :mod:`.command`: ``rcs-terminal run`` and its exit codes;
- :mod:`.api` and :mod:`.pytest_plugin`: the same steps for Python tests;
- ``suites/up24``: the built-in UP 2.4 conformance suite.

Nothing here imports Textual (a test checks it); this package imports nothing on import.
"""
