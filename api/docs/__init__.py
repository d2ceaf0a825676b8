"""/docs (Swagger UI) and /redoc, complete without internet access."""
