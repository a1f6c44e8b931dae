from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.invoice_list, name="index"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice-detail"),
    path("invoices/<int:invoice_id>/pdf/", views.invoice_pdf, name="invoice-pdf"),
    path("settlements/", views.settlements, name="settlements"),
    path("settlements/csv/", views.settlements_csv, name="settlements-csv"),
    path("payments/", views.payment_list, name="payments"),
    path("payments/<int:payment_id>/", views.payment_detail, name="payment-detail"),
    path("transfer/", views.transfer, name="transfer"),
    path("pay/", views.pay, name="pay"),
    path("pay/<str:reference>/", views.online_payment_detail, name="online-payment-detail"),
    path("broker/notify/<uuid:pk>/", views.broker_notification, name="broker-notification"),
    path("sandbox-broker/trnRequest/<str:token>/", views.sandbox_broker, name="sandbox-broker"),
    path("refund/", views.refund, name="refund"),
    path("refund/request/", views.refund_submit, name="refund-submit"),
    path("forecast/", views.forecast, name="forecast"),
    path("payment-plan/", views.payment_plan, name="payment-plan"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
