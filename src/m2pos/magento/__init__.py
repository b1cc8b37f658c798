"""Magento 2 REST client: OAuth 1.0a or Bearer auth, safe paging, typed errors, idempotent writes.

>>> auth = OAuth1Credentials(consumer_key, consumer_secret, access_token, access_token_secret)
>>> async with MagentoClient("https://shop.example", auth=auth) as magento:
...     async for order in magento.orders(SearchCriteria().where("updated_at", "gteq", since)):
...         ...

Everything public is re-exported here; the modules starting with ``_`` are private.
"""

from m2pos.magento._auth import BearerToken, OAuth1Credentials
from m2pos.magento._client import DEFAULT_TIMEOUT, MAX_SOURCE_ITEMS_PER_CALL, MagentoClient
from m2pos.magento._errors import (
    Action,
    ErrorResolution,
    FailureType,
    MagentoAuthError,
    MagentoBadRequestError,
    MagentoConnectionError,
    MagentoError,
    MagentoHTTPError,
    MagentoInvalidResponseError,
    MagentoNotFoundError,
    MagentoRateLimitError,
    MagentoRedirectError,
    MagentoServerError,
    MagentoTimeout,
    MagentoTransportError,
    fill_placeholders,
)
from m2pos.magento._lenient import InvalidDocument, OnInvalid
from m2pos.magento._paginate import Paginator, ensure_fields
from m2pos.magento._retry import DEFAULT_ERROR_MAPPING, RetryPolicy
from m2pos.magento._search import (
    CONDITION_TYPES,
    MAX_PAGE_SIZE,
    ConditionType,
    Filter,
    SearchCriteria,
    SearchCriteriaError,
    SortOrder,
    format_datetime,
)
from m2pos.magento.models import (
    Address,
    CreditMemo,
    CreditMemoItem,
    DocumentComment,
    Invoice,
    InvoiceItem,
    LineComponent,
    Order,
    OrderItem,
    Payment,
    Product,
    SaleLine,
    SourceItem,
    StatusHistory,
    StockItem,
)
from m2pos.retry_after import parse_retry_after

__all__ = [
    "CONDITION_TYPES",
    "DEFAULT_ERROR_MAPPING",
    "DEFAULT_TIMEOUT",
    "MAX_PAGE_SIZE",
    "MAX_SOURCE_ITEMS_PER_CALL",
    "Action",
    "Address",
    "BearerToken",
    "ConditionType",
    "CreditMemo",
    "CreditMemoItem",
    "DocumentComment",
    "ErrorResolution",
    "FailureType",
    "Filter",
    "InvalidDocument",
    "Invoice",
    "InvoiceItem",
    "LineComponent",
    "MagentoAuthError",
    "MagentoBadRequestError",
    "MagentoClient",
    "MagentoConnectionError",
    "MagentoError",
    "MagentoHTTPError",
    "MagentoInvalidResponseError",
    "MagentoNotFoundError",
    "MagentoRateLimitError",
    "MagentoRedirectError",
    "MagentoServerError",
    "MagentoTimeout",
    "MagentoTransportError",
    "OAuth1Credentials",
    "OnInvalid",
    "Order",
    "OrderItem",
    "Paginator",
    "Payment",
    "Product",
    "RetryPolicy",
    "SaleLine",
    "SearchCriteria",
    "SearchCriteriaError",
    "SortOrder",
    "SourceItem",
    "StatusHistory",
    "StockItem",
    "ensure_fields",
    "fill_placeholders",
    "format_datetime",
    "parse_retry_after",
]
