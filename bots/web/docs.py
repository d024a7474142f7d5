"""`/docs`: Swagger UI from the vendored copy (no CDN on the dashboard's origin), started by a static script."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter()

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Siaga112 · API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="/openapi.json"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""


@router.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    """The OpenAPI page of the JSON endpoints, under the same strict CSP as every other page."""
    return HTMLResponse(PAGE)
