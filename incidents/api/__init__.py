"""The REST API v1 (/api/v1/): serializers, viewsets and the machinery they share.

The shared pieces (paging, formats, permissions, conditional requests, throttling, schema)
live here because the incidents app holds most of the records; `people.api` builds its
viewsets on them. URLs are in `cabar_tracker.api.urls`.
"""
