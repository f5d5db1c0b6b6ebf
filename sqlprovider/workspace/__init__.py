"""Reaching a workspace: the HTTP client with its retries, authentication, and deployment names."""
