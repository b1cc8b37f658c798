"""SearchCriteria renders Magento's bracket syntax exactly and refuses searches Magento would misread."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from m2pos.magento import CONDITION_TYPES, Filter, SearchCriteria, SearchCriteriaError

G = "searchCriteria[filter_groups]"

# One example per condition type: (condition, value given, value rendered).
CASES = [
    ("eq", "new", "new"),
    ("finset", "12", "12"),
    ("gt", 10, "10"),
    ("gteq", Decimal("10.50"), "10.50"),
    ("in", ["new", "processing"], "new,processing"),
    ("like", "%000001%", "%000001%"),
    ("lt", 5.5, "5.5"),
    ("lteq", datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC), "2024-03-01 12:00:05"),
    ("moreq", 3, "3"),
    ("neq", "canceled", "canceled"),
    ("nfinset", "7", "7"),
    ("nin", (1, 2, 3), "1,2,3"),
    ("nlike", "test%", "test%"),
    ("notnull", None, "1"),
    ("null", None, "1"),
]


def test_the_cases_cover_every_condition_type_but_the_range_pair() -> None:
    assert {c for c, _, _ in CASES} | {"from", "to"} == CONDITION_TYPES
    assert len(CONDITION_TYPES) == 17


@pytest.mark.parametrize(("condition", "value", "rendered"), CASES)
def test_each_condition_type_renders(condition: str, value: object, rendered: str) -> None:
    params = SearchCriteria().where("field_x", condition, value).to_params()  # type: ignore[arg-type]
    assert params == [
        (f"{G}[0][filters][0][field]", "field_x"),
        (f"{G}[0][filters][0][value]", rendered),
        (f"{G}[0][filters][0][condition_type]", condition),
    ]


def test_between_renders_from_and_to_in_two_and_groups() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC)
    assert SearchCriteria().between("created_at", start, end).to_params() == [
        (f"{G}[0][filters][0][field]", "created_at"),
        (f"{G}[0][filters][0][value]", "2024-01-01 00:00:00"),
        (f"{G}[0][filters][0][condition_type]", "from"),
        (f"{G}[1][filters][0][field]", "created_at"),
        (f"{G}[1][filters][0][value]", "2024-01-31 23:59:59"),
        (f"{G}[1][filters][0][condition_type]", "to"),
    ]


def test_or_inside_a_group_and_across_groups_sort_and_paging() -> None:
    criteria = (
        SearchCriteria()
        .any_of(Filter("state", "eq", "new"), Filter("state", "eq", "processing"))
        .where("store_id", "in", [1, 2])
        .order_by("updated_at", "DESC")
        .order_by("entity_id")
        .with_page_size(50)
        .with_current_page(3)
    )
    assert criteria.to_params() == [
        (f"{G}[0][filters][0][field]", "state"),
        (f"{G}[0][filters][0][value]", "new"),
        (f"{G}[0][filters][0][condition_type]", "eq"),
        (f"{G}[0][filters][1][field]", "state"),
        (f"{G}[0][filters][1][value]", "processing"),
        (f"{G}[0][filters][1][condition_type]", "eq"),
        (f"{G}[1][filters][0][field]", "store_id"),
        (f"{G}[1][filters][0][value]", "1,2"),
        (f"{G}[1][filters][0][condition_type]", "in"),
        ("searchCriteria[sortOrders][0][field]", "updated_at"),
        ("searchCriteria[sortOrders][0][direction]", "DESC"),
        ("searchCriteria[sortOrders][1][field]", "entity_id"),
        ("searchCriteria[sortOrders][1][direction]", "ASC"),
        ("searchCriteria[pageSize]", "50"),
        ("searchCriteria[currentPage]", "3"),
    ]


def test_camel_case_spelling_matches_the_schema() -> None:
    params = SearchCriteria().where("state", "eq", "new").to_params("camel")
    assert [k for k, _ in params] == [
        "searchCriteria[filterGroups][0][filters][0][field]",
        "searchCriteria[filterGroups][0][filters][0][value]",
        "searchCriteria[filterGroups][0][filters][0][conditionType]",
    ]


def test_the_builder_is_immutable() -> None:
    base = SearchCriteria()
    narrowed = base.where("state", "eq", "new").with_page_size(10)
    assert base.to_params() == []
    assert narrowed is not base
    with pytest.raises(AttributeError):
        base.page_size = 5  # type: ignore[misc]


def test_datetimes_are_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2024, 6, 1, 1, 30, 0, tzinfo=plus_two)
    assert SearchCriteria().where("updated_at", "gteq", local).to_params()[1][1] == "2024-05-31 23:30:00"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(SearchCriteriaError, match="time zone"):
        SearchCriteria().where("updated_at", "gteq", datetime(2024, 1, 1)).to_params()


def test_dates_and_flags_render() -> None:
    params = SearchCriteria().where("d", "eq", date(2024, 2, 29)).where("f", "eq", True).to_params()
    assert params[1][1] == "2024-02-29"
    assert params[4][1] == "1"


@pytest.mark.parametrize(
    ("condition", "value", "message"),
    [
        ("between", 1, "unknown condition type"),
        ("in", "a,b", "takes a list"),
        ("nin", 5, "takes a list"),
        ("in", [], "at least one value"),
        ("eq", None, "needs a value"),
        ("eq", [1, 2], "single value"),
    ],
)
def test_bad_filters_are_refused(condition: str, value: object, message: str) -> None:
    with pytest.raises(SearchCriteriaError, match=message):
        Filter("x", condition, value)  # type: ignore[arg-type]


def test_from_without_to_is_refused() -> None:
    with pytest.raises(SearchCriteriaError, match="together"):
        SearchCriteria().where("created_at", "from", "2024-01-01 00:00:00").to_params()
    with pytest.raises(SearchCriteriaError, match="together"):
        SearchCriteria().where("created_at", "to", "2024-01-01 00:00:00").to_params()


def test_from_and_to_in_one_or_group_is_refused() -> None:
    criteria = SearchCriteria().any_of(Filter("qty", "from", 1), Filter("qty", "to", 5))
    with pytest.raises(SearchCriteriaError, match="same filter group"):
        criteria.to_params()


@pytest.mark.parametrize("size", [0, 301, 1000])
def test_page_sizes_outside_1_to_300_are_refused(size: int) -> None:
    with pytest.raises(SearchCriteriaError, match="300"):
        SearchCriteria().with_page_size(size)


def test_page_size_300_is_allowed_and_current_page_must_be_positive() -> None:
    assert SearchCriteria(page_size=300).to_params() == [("searchCriteria[pageSize]", "300")]
    with pytest.raises(SearchCriteriaError, match="current page"):
        SearchCriteria(current_page=0)
