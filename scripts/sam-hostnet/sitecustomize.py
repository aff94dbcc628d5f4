# Loaded by Python at start-up when this directory is on PYTHONPATH
# (scripts/sam-local.sh does that for the `sam` it runs). See sam_hostnet.py.
try:
    import sam_hostnet  # noqa: F401
except ImportError:  # not the SAM CLI's interpreter: nothing to patch
    pass
