"""Reads scoped to the acting user. Every other app's selectors start here."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Customer, CustomerAccess, DeliveryPoint, User


def visible_customers(*, user: User) -> QuerySet[Customer]:
    """Customers the user may act for (in any scope)."""
    if not user.is_authenticated:
        return Customer.objects.none()
    return Customer.objects.filter(Exists(CustomerAccess.objects.filter(user=user, customer=OuterRef("pk"))))


def visible_delivery_points(*, user: User) -> QuerySet[DeliveryPoint]:
    """Delivery points the user may see: all of a customer's, or the granted subset for a partial manager."""
    if not user.is_authenticated:
        return DeliveryPoint.objects.none()
    full = CustomerAccess.objects.filter(user=user, customer=OuterRef("customer_id"), all_points=True)
    partial = CustomerAccess.objects.filter(user=user, all_points=False, points=OuterRef("pk"))
    return DeliveryPoint.objects.filter(Q(Exists(full)) | Q(Exists(partial)))


def access_for(*, user: User, customer: Customer) -> CustomerAccess | None:
    if not user.is_authenticated:
        return None
    return CustomerAccess.objects.filter(user=user, customer=customer).first()
