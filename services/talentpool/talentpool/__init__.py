"""The talent pool service: every candidate's history across applications."""
