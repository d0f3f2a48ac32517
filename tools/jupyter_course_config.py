"""Jupyter server settings for the course (loaded by tools/course.py with --config).

Every notebook is saved in the course's form (tools/notebook_form.py), so reading a lesson and
closing it leaves the file exactly as committed.
"""

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_form import pre_save  # noqa: E402

# Jupytext's server extension, when installed, applies the same setting again: not worth a warning
warnings.filterwarnings("ignore", message="Overriding existing pre_save_hook")
c = get_config()  # noqa: F821  (provided by Jupyter when it loads this file)
c.FileContentsManager.pre_save_hook = pre_save
