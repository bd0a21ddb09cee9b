import os

from django.conf import settings
from django.http import HttpResponse


def download(request):
    name = os.path.basename(request.GET["doc"])
    with open(os.path.join(settings.MEDIA_ROOT, "contracts", name), "rb") as fh:
        return HttpResponse(fh.read(), content_type="application/pdf")
