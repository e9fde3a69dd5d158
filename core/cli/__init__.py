"""The command line, ``python -m core VERB``: every verb works with the app closed (and while it runs).

``verbs`` holds the registry of verbs; ``runs``, ``launch``, ``recipes`` and ``predict`` register theirs;
``main`` builds the parser from the registry. Errors print one line saying what to do and exit with
status 1; nothing prints a traceback.
"""
