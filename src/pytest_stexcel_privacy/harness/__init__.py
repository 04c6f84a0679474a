"""What a check runs with and how hypothesis drives it.

``holder`` holds the adapter, its stores and the sinks; ``properties`` and
``state_machines`` run hypothesis inside a check; ``reducer`` shortens a
failing fixed sequence; ``acceptance`` is where accepted findings act;
``hypothesis_settings`` builds the settings they run with and
``hypothesis_internals`` isolates the private hypothesis names they need.
Nothing here imports ``checks``.
"""
