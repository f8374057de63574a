from django.urls import path

from evidence.public import views

app_name = "evidence"

urlpatterns = [
    # Files are served from these paths only, always as downloads (views.py).
    path(
        "evidence/captures/<int:pk>/capture.warc.gz",
        views.capture_file,
        {"part": "warc"},
        name="capture_warc",
    ),
    path(
        "evidence/captures/<int:pk>/screenshot.png",
        views.capture_file,
        {"part": "screenshot"},
        name="capture_screenshot",
    ),
    path(
        "evidence/captures/<int:pk>/page.pdf",
        views.capture_file,
        {"part": "pdf"},
        name="capture_pdf",
    ),
    path("evidence/attachments/<int:pk>/download", views.attachment_file, name="attachment_file"),
]
