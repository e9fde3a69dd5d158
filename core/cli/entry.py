"""The ``explorer`` console script: ``python -m core`` under a name, with one clear line (not a traceback) when
only the logging client was installed and a verb needs the app's packages."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from core.cli.main import main as cli_main
    except ModuleNotFoundError as exc:
        print(
            f"explorer: the command line needs the app's packages ({exc.name} is missing); install them with "
            "pip install 'experiment-explorer[app]' (or: pip install -r requirements.txt in the repository)",
            file=sys.stderr,
        )
        return 1
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
