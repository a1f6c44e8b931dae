"""The signed-in user and the customers in scope."""

from django.http import HttpRequest
from ninja import Router, Schema

from accounts.permissions import request_scope

router = Router(tags=["account"])


class CustomerOut(Schema):
    id: int
    number: str
    name: str
    access: str  # "full": acts as the customer; "partial": some delivery points only


class MeOut(Schema):
    username: str
    email: str
    customers: list[CustomerOut]


@router.get("/me", response=MeOut, summary="The signed-in user and the customers they may act for")
def me(request: HttpRequest):
    scope = request_scope(request)
    customers = scope.customers().order_by("number", "id")
    return {
        "username": request.user.username,
        "email": request.user.email,
        "customers": [
            {"id": c.pk, "number": c.number, "name": c.name,
             "access": "full" if c.pk in scope.full_customer_ids else "partial"}
            for c in customers
        ],
    }  # fmt: skip
