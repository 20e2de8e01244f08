"""Streaming servers (nginx, Icecast) asking sessionhub before they serve a byte."""
