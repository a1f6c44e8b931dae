"""The user's scope is read once per request and never serves another user."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from accounts import permissions
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_scope_is_read_once_per_request(customer, customer_user, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = customer_user

    with django_assert_num_queries(1):
        first = permissions.request_scope(request)
        again = permissions.request_scope(request)

    assert first is again
    assert first.full_customer_ids == {customer.pk}
    assert permissions.request_scope_if_read(request) is first


def test_a_scope_read_for_one_user_never_serves_another(customer, customer_user):
    request = RequestFactory().get("/")
    request.user = customer_user
    permissions.request_scope(request)
    stranger = factories.UserFactory(username="obcy")

    request.user = stranger  # the request's user changed (a login or logout on the way)

    assert permissions.request_scope_if_read(request) is None
    assert permissions.request_scope(request).is_empty
    request.user = AnonymousUser()
    assert permissions.request_scope(request).is_empty


def test_a_page_that_has_not_read_the_scope_gets_none_without_a_query(customer_user, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = customer_user

    with django_assert_num_queries(0):
        assert permissions.request_scope_if_read(request) is None
