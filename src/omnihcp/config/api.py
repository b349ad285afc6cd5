"""The one NinjaAPI: every app's router, token or session auth, one error body."""

from ninja import NinjaAPI

from omnihcp.core.api import install_error_handlers
from omnihcp.masterdata.api import router as masterdata_router
from omnihcp.org.api import router as org_router
from omnihcp.org.auth import api_auth

api = NinjaAPI(
    title="OmniHCP API",
    version="1",
    description=(
        "Master data, organisation and products of OmniHCP. Authenticate with "
        "`Authorization: Bearer <token>` (integrations) or the session cookie (pages). "
        "Errors are `{detail, code, errors: [{field, message}]}` in the caller's language."
    ),
    auth=api_auth,
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("/org/", org_router)
api.add_router("/md/", masterdata_router)
