"""Contract tests: the client's real HTTP traffic with the sandbox follows Magento's official schema.

One scenario drives every route the client package (``m2pos.magento``, ``check.py`` included)
uses, over real HTTP, through a :class:`RecordingTransport`; each recorded request and response is
then checked against ``admin-schema-2.4.8.yaml``. ``CLIENT_ROUTES`` lists those routes, and a test
reads the package's source to keep the list complete: a route added to the client without a
contract test fails here.

A second set of tests places one order of each kind the sandbox's control interface can produce
and validates it, its invoices and its credit memos against their definitions.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import m2pos.magento
from m2pos.magento import (
    BearerToken,
    MagentoAuthError,
    MagentoBadRequestError,
    MagentoClient,
    MagentoNotFoundError,
    OAuth1Credentials,
    RetryPolicy,
    SearchCriteria,
    SourceItem,
)
from m2pos.magento.check import diagnose
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import DEMO_CREDENTIALS, MagentoSandbox
from tests.contract.recording import Exchange, RecordingTransport
from tests.contract.swagger import ContractError, MagentoSchema, load_schema

C = DEMO_CREDENTIALS
OAUTH = OAuth1Credentials(C.consumer_key, C.consumer_secret, C.access_token, C.access_token_secret)
DEMO_ORDERS = 130
PAGE_SIZE = 50

Route = tuple[str, str]  # (method, path template of the official schema)

# Every route the client package sends requests to; ``test_the_route_list_is_the_clients`` keeps
# it in step with the source.
CLIENT_ROUTES: frozenset[Route] = frozenset(
    {
        ("GET", "/V1/orders"),
        ("GET", "/V1/orders/{id}"),
        ("GET", "/V1/orders/{id}/comments"),
        ("POST", "/V1/orders/{id}/comments"),
        ("POST", "/V1/order/{orderId}/invoice"),
        ("GET", "/V1/invoices"),
        ("GET", "/V1/invoices/{id}"),
        ("GET", "/V1/creditmemos"),
        ("GET", "/V1/creditmemo/{id}"),
        ("GET", "/V1/products"),
        ("GET", "/V1/inventory/source-items"),
        ("POST", "/V1/inventory/source-items"),
        ("GET", "/V1/stockItems/{productSku}"),
        ("PUT", "/V1/products/{productSku}/stockItems/{itemId}"),
        ("GET", "/V1/store/storeViews"),
        ("POST", "/V1/integration/admin/token"),
    }
)

# Error answers the scenario provokes: (status, method, template) → a piece of Magento's message.
EXPECTED_ERRORS: dict[tuple[int, str, str], str] = {
    (404, "GET", "/V1/orders/{id}"): "The entity that was requested doesn't exist",
    (400, "GET", "/V1/orders"): "Maximum SearchCriteria pageSize is %max",
    (400, "POST", "/V1/inventory/source-items"): 'Maximum items of type "%type" is %max',
    (401, "GET", "/V1/orders"): "The consumer isn't authorized to access %resources.",  # Bearer refused
    (401, "GET", "/V1/orders/{id}"): "The consumer isn't authorized to access %resources.",
    (401, "PUT", "/V1/products/{productSku}/stockItems/{itemId}"): "signature",  # "%2F", magento#37913
    (401, "POST", "/V1/integration/admin/token"): "2fa",
}


async def _no_wait(_seconds: float) -> None:
    return None


def _client(base_url: str, exchanges: list[Exchange], **kwargs: Any) -> MagentoClient:
    kwargs.setdefault("auth", OAUTH)
    kwargs.setdefault("retry", RetryPolicy(sleep=_no_wait, jitter=0.0))
    recorder = RecordingTransport(httpx.AsyncHTTPTransport(), exchanges)
    return MagentoClient(base_url, transport=recorder, **kwargs)


@dataclass
class Traffic:
    exchanges: list[Exchange] = field(default_factory=list)
    orders: list[int] = field(default_factory=list)  # every demo order id, as streamed
    past_the_end: list[int] = field(default_factory=list)  # what a page past the last one held


async def _exercise(sandbox: MagentoSandbox, base_url: str) -> Traffic:
    """Every route the client uses, with successes and the error answers worth knowing."""
    control = sandbox.control
    traffic = Traffic()
    log = traffic.exchanges
    async with _client(base_url, log, page_size=PAGE_SIZE) as magento:
        # Orders: every page, projections (one empty), and a page past the end.
        traffic.orders = [o.entity_id async for o in magento.orders() if o.entity_id is not None]
        await magento.orders(fields="items[increment_id,grand_total,status]").to_list()
        nothing = SearchCriteria().where("increment_id", "eq", "no-such-order")
        assert await magento.orders(nothing, fields="items[entity_id]").to_list() == []
        past = SearchCriteria(current_page=DEMO_ORDERS // PAGE_SIZE + 3)
        traffic.past_the_end = [o.entity_id async for o in magento.orders(past) if o.entity_id is not None]
        first = traffic.orders[0]
        await magento.get_order(first)
        await magento.order_comments(first)

        # Writes on a new order: a comment, an invoice; a refund through the control interface.
        order_id = int(control.place_order("mixed", payment="checkmo", guest=False)["entity_id"])
        await magento.add_order_comment(order_id, "Sent to the POS as sale 1", is_customer_notified=True)
        await magento.order_comments(order_id)
        invoice_id = await magento.create_invoice(order_id, capture=False, comment="Paid at the counter")
        await magento.invoices().to_list()
        await magento.get_invoice(invoice_id)
        control.refund(order_id, return_to_stock=True)
        memos = await magento.credit_memos().to_list()
        assert order_id in {m.order_id for m in memos}
        for memo in memos[-3:]:
            assert memo.entity_id is not None
            await magento.get_credit_memo(memo.entity_id)

        # Catalogue and stock.
        projection = "items[sku,type_id,price,extension_attributes[stock_item[qty,is_in_stock]]]"
        await magento.products(fields=projection).to_list()
        await magento.products(SearchCriteria().where("type_id", "in", ["bundle", "configurable"])).to_list()
        stock = await magento.source_items().to_list()
        bumped = [s.model_copy(update={"quantity": s.quantity + 1, "status": 1}) for s in stock[:25]]
        assert await magento.save_source_items(bumped) == 2
        await magento.update_stock_item("MUG-001", 11, True)
        with pytest.raises(MagentoAuthError):  # "%2F" breaks Magento's signature check (magento#37913)
            await magento.update_stock_item("ABC/10", 3, True)
        control.set_config(oauth_encoded_slash_bug=False)  # a store where the slash is signed right
        await magento.update_stock_item("ABC/10", 4, True)
        control.set_config(oauth_encoded_slash_bug=True)
        stock_item = await magento.get_stock_item("MUG-001")
        assert stock_item.qty >= 0

        # Error answers.
        with pytest.raises(MagentoNotFoundError):
            await magento.get_order(9_999_999)
        control.set_config(input_limits=True)
        too_many = {"sourceItems": [SourceItem(sku=s.sku, quantity=1, status=1).to_api() for s in stock[:21]]}
        with pytest.raises(MagentoBadRequestError):
            await magento.request("POST", "/inventory/source-items", json=too_many, idempotent=True)
        pages_of_301 = [("searchCriteria[pageSize]", "301"), ("searchCriteria[currentPage]", "1")]
        with pytest.raises(MagentoBadRequestError):
            await magento.request("GET", "/orders", params=pages_of_301, idempotent=True)
        control.set_config(input_limits=False)

    # The schema's camelCase spelling of search keys.
    async with _client(base_url, log, page_size=PAGE_SIZE, search_key_style="camel") as magento:
        since = SearchCriteria().where("state", "in", ["new", "processing"]).where("grand_total", "gt", 0)
        await magento.orders(since.order_by("created_at", "DESC")).to_list()
        await magento.invoices_for_order(order_id)
        await magento.credit_memos_for_order(order_id)

    # An integration token sent as Bearer: refused since 2.4.4.
    async with _client(base_url, log, auth=BearerToken(C.access_token)) as magento:
        with pytest.raises(MagentoAuthError):
            await magento.get_order(first)
        with pytest.raises(MagentoAuthError):
            await magento.orders().to_list()

    # The connection check: admin login refused by 2FA, then allowed; a wrong store code; limits on.
    for config in ({}, {"two_factor_auth": False}, {"input_limits": True}):
        control.set_config(**config)
        async with _client(base_url, log, retry=RetryPolicy(max_attempts=1)) as magento:
            await diagnose(magento, admin_username=C.admin_username, admin_password=C.admin_password)
        control.set_config(two_factor_auth=True, input_limits=False)
    async with _client(base_url, log, store_code="nowhere", retry=RetryPolicy(max_attempts=1)) as magento:
        await diagnose(magento)
    return traffic


@pytest.fixture(scope="module")
def traffic() -> Iterator[Traffic]:
    sandbox = MagentoSandbox(orders=DEMO_ORDERS, seed=7)
    try:
        with serve_in_thread(sandbox.app) as base_url:
            yield asyncio.run(_exercise(sandbox, base_url))
    finally:
        sandbox.close()


def _route(schema: MagentoSchema, exchange: Exchange) -> Route:
    route = schema.route(exchange.method, exchange.raw_path)
    return route.method, route.template


def _describe(exchange: Exchange) -> str:
    query = "&".join(f"{k}={v}" for k, v in exchange.query)
    return f"{exchange.method} {exchange.raw_path}{'?' + query if query else ''} → {exchange.status}"


def test_every_request_follows_the_schema(traffic: Traffic) -> None:
    schema = load_schema()
    problems = []
    for exchange in traffic.exchanges:
        try:
            schema.check_request(exchange.method, exchange.raw_path, exchange.query, exchange.request_body)
        except ContractError as exc:
            problems.append(f"{_describe(exchange)}\n{exc}")
    assert not problems, "\n\n".join(problems)


def test_every_response_follows_the_schema(traffic: Traffic) -> None:
    schema = load_schema()
    problems = []
    for exchange in traffic.exchanges:
        try:
            schema.check_response(
                exchange.method, exchange.raw_path, exchange.status, exchange.response_body, exchange.query
            )
        except ContractError as exc:
            problems.append(f"{_describe(exchange)}\n{exc}")
    assert not problems, "\n\n".join(problems)


def test_every_client_route_was_exercised(traffic: Traffic) -> None:
    schema = load_schema()
    requested = {_route(schema, e) for e in traffic.exchanges}
    answered = {_route(schema, e) for e in traffic.exchanges if 200 <= e.status < 300}
    assert sorted(CLIENT_ROUTES - answered) == [], "routes with no successful exchange"
    assert sorted(requested - CLIENT_ROUTES) == [], "traffic to routes missing from CLIENT_ROUTES"


def test_the_error_answers_were_exercised(traffic: Traffic) -> None:
    schema = load_schema()
    messages: dict[tuple[int, str, str], list[str]] = {}
    for exchange in traffic.exchanges:
        if exchange.status >= 400:
            key = (exchange.status, *_route(schema, exchange))
            messages.setdefault(key, []).append(str(exchange.response_body.get("message")))
    for key, text in EXPECTED_ERRORS.items():
        assert key in messages, f"no {key[0]} answer from {key[1]} {key[2]}"
        assert any(text in message for message in messages[key]), (key, messages[key])


def test_paging_past_the_end_answers_the_last_page_again(traffic: Traffic) -> None:
    # Magento clamps currentPage to the last page (domain notes §3); the client stops on total_count.
    assert len(traffic.orders) == DEMO_ORDERS == len(set(traffic.orders))
    last_page = traffic.orders[(DEMO_ORDERS - 1) // PAGE_SIZE * PAGE_SIZE :]
    assert traffic.past_the_end == last_page
    requested_pages = {
        int(v) for e in traffic.exchanges for k, v in e.query if k == "searchCriteria[currentPage]"
    }
    assert max(requested_pages) * PAGE_SIZE > DEMO_ORDERS + PAGE_SIZE


# -- the route list, read from the client's source ---------------------------------------------------

_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH"})
_Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class _Module:
    path: Path
    tree: ast.Module

    def constant(self, name: str) -> Any:
        """The literal value of a module-level ``NAME = ...`` (or ``NAME: type = ...``)."""
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id == name:
                return ast.literal_eval(value)
        raise LookupError(name)

    def functions(self) -> list[_Function]:
        """Module functions and class methods (nested functions belong to them)."""
        out: list[_Function] = []
        for node in self.tree.body:
            body = node.body if isinstance(node, ast.ClassDef) else [node]
            out += [n for n in body if isinstance(n, _Function)]
        return out


def _paths(module: _Module, function: _Function, node: ast.expr) -> list[str]:
    """The path values an argument can take, with each placeholder as ``1``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(str(v.value) if isinstance(v, ast.Constant) else "1" for v in node.values)]
    if isinstance(node, ast.Name):
        for inner in ast.walk(function):
            if isinstance(inner, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == node.id for t in inner.targets
            ):
                return _paths(module, function, inner.value)
            if (
                isinstance(inner, ast.For | ast.AsyncFor)
                and isinstance(inner.target, ast.Tuple)
                and isinstance(inner.iter, ast.Name)
            ):
                names = [t.id if isinstance(t, ast.Name) else None for t in inner.target.elts]
                if node.id in names:
                    return [row[names.index(node.id)] for row in module.constant(inner.iter.id)]
        parameters = [a.arg for a in function.args.args]
        if node.id in parameters:  # filled by the callers of this function: they are scanned
            return []
    raise AssertionError(
        f"{module.path.name}:{node.lineno}: the contract test cannot read this request's path; "
        "make it a literal, or teach routes_in_source() to read it"
    )


def routes_in_source() -> set[Route]:
    """(method, template) of every request the ``m2pos.magento`` package makes.

    A request is a call with a literal HTTP method followed by its path (``call("GET", f"/orders/
    {id}")``, ``_probe(client, "POST", "/integration/admin/token")``), or ``_paginate(path, …)``
    (always GET).
    """
    schema = load_schema()
    found: set[Route] = set()
    for file in sorted(Path(m2pos.magento.__file__).parent.glob("*.py")):
        module = _Module(file, ast.parse(file.read_text(), str(file)))
        for function in module.functions():
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                requests: list[tuple[str, ast.expr]] = []
                name = call.func.attr if isinstance(call.func, ast.Attribute) else None
                if name == "_paginate" and call.args:
                    requests.append(("GET", call.args[0]))
                for i, argument in enumerate(call.args[:-1]):
                    if isinstance(argument, ast.Constant) and argument.value in _METHODS:
                        requests.append((str(argument.value), call.args[i + 1]))
                for method, node in requests:
                    for path in _paths(module, function, node):
                        found.add((method, schema.route(method, f"/rest/default/V1{path}").template))
    return found


def test_the_route_list_is_the_clients() -> None:
    assert routes_in_source() == CLIENT_ROUTES


# -- every kind of order the control interface can place ---------------------------------------------

Step = Callable[[Any, int], object]


@dataclass(frozen=True)
class Kind:
    options: dict[str, Any]
    expect: Callable[[dict[str, Any]], bool]  # the order is of this kind (so the test means something)
    steps: tuple[Step, ...] = ()
    invoices: int = 0
    memos: int = 0


def _types(order: dict[str, Any]) -> set[str]:
    return {item["product_type"] for item in order["items"]}


def _invoice(control: Any, order_id: int) -> object:
    return control.invoice(order_id)


def _refund_one(control: Any, order_id: int) -> object:
    first = next(i for i in control.get_order(order_id)["items"] if "parent_item_id" not in i)
    return control.refund(order_id, items=[{"order_item_id": first["item_id"], "qty": 1}])


def _action(name: str) -> Step:
    return lambda control, order_id: getattr(control, name)(order_id)


def _offline(method: str) -> Kind:
    return Kind({"payment": method}, lambda o: o["payment"]["method"] == method and o["state"] == "new")


KINDS: dict[str, Kind] = {
    "simple": Kind({"kind": "simple"}, lambda o: _types(o) == {"simple"}),
    "configurable": Kind(
        {"kind": "configurable"},
        lambda o: _types(o) == {"configurable", "simple"} and any("parent_item_id" in i for i in o["items"]),
    ),
    "bundle": Kind({"kind": "bundle"}, lambda o: "bundle" in _types(o)),
    "virtual": Kind({"kind": "virtual"}, lambda o: o["is_virtual"] == 1),
    "mixed": Kind({"kind": "mixed"}, lambda o: {"simple", "configurable", "bundle"} <= _types(o)),
    "guest": Kind({"guest": True}, lambda o: o["customer_is_guest"] == 1 and "customer_id" not in o),
    "registered customer": Kind({"guest": False}, lambda o: o["customer_id"] == 1),
    **{
        f"offline {method}": _offline(method)
        for method in ("checkmo", "banktransfer", "cashondelivery", "purchaseorder")
    },
    "zero total": Kind({"payment": "free"}, lambda o: o["grand_total"] == 0 == o["base_grand_total"]),
    "discounted": Kind({"coupon_percent": 10}, lambda o: o["discount_amount"] < 0),
    "authorised online": Kind(
        {"payment": "authorised"}, lambda o: o["state"] == "processing" and not o.get("total_invoiced")
    ),
    "captured online": Kind(
        {"payment": "captured"}, lambda o: o["total_paid"] == o["grand_total"], invoices=1
    ),
    "pending payment": Kind({"payment": "pending_payment"}, lambda o: o["state"] == "pending_payment"),
    "payment review": Kind({"payment": "payment_review"}, lambda o: o["state"] == "payment_review"),
    "invoiced offline": Kind({}, lambda o: o["state"] == "processing", (_invoice,), invoices=1),
    "shipped": Kind({}, lambda o: o["state"] == "complete", (_invoice, _action("ship")), invoices=1),
    "refunded": Kind(
        {"kind": "mixed"},
        lambda o: o["state"] == "closed" and o["total_refunded"] == o["total_paid"],
        (_invoice, lambda control, order_id: control.refund(order_id)),
        invoices=1,
        memos=1,
    ),
    "partly refunded": Kind(
        {},
        lambda o: o["state"] == "processing" and 0 < o["total_refunded"] < o["total_paid"],
        (_invoice, _refund_one),
        invoices=1,
        memos=1,
    ),
    "cancelled": Kind({}, lambda o: o["state"] == "canceled", (_action("cancel"),)),
    "on hold": Kind({}, lambda o: o["state"] == "holded", (_action("hold"),)),
    "another store view": Kind({"store_id": 2}, lambda o: o["store_id"] == 2),
}


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[MagentoSandbox, str]]:
    sandbox = MagentoSandbox(orders=0, seed=11)
    try:
        with serve_in_thread(sandbox.app) as base_url:
            yield sandbox, base_url
    finally:
        sandbox.close()


def _body(exchanges: list[Exchange], method: str, path_end: str) -> Any:
    matches = [e.response_body for e in exchanges if e.method == method and e.raw_path.endswith(path_end)]
    assert len(matches) == 1, (method, path_end, len(matches))
    return matches[0]


@pytest.mark.parametrize("name", list(KINDS))
async def test_each_kind_of_order_and_its_documents_follow_the_schema(
    shop: tuple[MagentoSandbox, str], name: str
) -> None:
    sandbox, base_url = shop
    kind = KINDS[name]
    order_id = int(sandbox.control.place_order(**kind.options)["entity_id"])
    for step in kind.steps:
        step(sandbox.control, order_id)
    log: list[Exchange] = []
    async with _client(base_url, log) as magento:
        await magento.get_order(order_id)
        listed = await magento.orders(SearchCriteria().where("entity_id", "eq", order_id)).to_list()
        invoices = await magento.invoices_for_order(order_id)
        memos = await magento.credit_memos_for_order(order_id)
        for invoice in invoices:
            await magento.get_invoice(invoice.entity_id or 0)
        for memo in memos:
            await magento.get_credit_memo(memo.entity_id or 0)
    assert [o.entity_id for o in listed] == [order_id]
    assert (len(invoices), len(memos)) == (kind.invoices, kind.memos)

    schema = load_schema()
    order = _body(log, "GET", f"/V1/orders/{order_id}")
    assert kind.expect(order), f"the placed order is not a {name!r} order"
    schema.validate_definition("sales-data-order-interface", order)
    for invoice in invoices:
        schema.validate_definition(
            "sales-data-invoice-interface", _body(log, "GET", f"/V1/invoices/{invoice.entity_id}")
        )
    for memo in memos:
        schema.validate_definition(
            "sales-data-creditmemo-interface", _body(log, "GET", f"/V1/creditmemo/{memo.entity_id}")
        )
    for exchange in log:  # the list answers too (orders, invoices and credit memos searches)
        schema.check_request(exchange.method, exchange.raw_path, exchange.query, exchange.request_body)
        schema.check_response(exchange.method, exchange.raw_path, exchange.status, exchange.response_body)
