"""Write JupyterLab settings overrides for the course's environment: no news or update pop-ups."""

from __future__ import annotations

import json
import pathlib
import sys

OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"},
}


def main() -> None:
    """Merge the overrides into ``<prefix>/share/jupyter/lab/settings/overrides.json``."""
    path = pathlib.Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(OVERRIDES)
    path.write_text(json.dumps(current, indent=2) + "\n")


if __name__ == "__main__":
    main()
