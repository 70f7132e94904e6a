"""HTTP building blocks shared by every service's FastAPI app."""
