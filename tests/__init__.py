"""Tests for the project, mirroring the apps (incidents/, people/, api/, browser/)."""
