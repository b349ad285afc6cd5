"""The one NinjaAPI: every app's router, token or session auth, one error body."""

from ninja import NinjaAPI

from omnihcp.core.api import install_error_handlers
from omnihcp.fieldforce.api import router as fieldforce_router
from omnihcp.masterdata.api import router as masterdata_router
from omnihcp.org.api import router as org_router
from omnihcp.org.auth import api_auth
from omnihcp.tracking.api import install as install_tracking

api = NinjaAPI(
    title="OmniHCP API",
    version="1",
    description=(
        "Master data, organisation, products, field force and event tracking of OmniHCP. "
        "The tracking API under `/api/v1/` speaks Segment's HTTP Tracking API: give an SDK "
        "this server's `/api` as its host and a source's write key. Authenticate with "
        "`Authorization: Bearer <token>` (integrations) or the session cookie (pages). "
        "Errors are `{detail, code, errors: [{field, message}]}` in the caller's language."
    ),
    auth=api_auth,
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("/org/", org_router)
api.add_router("/md/", masterdata_router)
api.add_router("/ff/", fieldforce_router)
install_tracking(api)
