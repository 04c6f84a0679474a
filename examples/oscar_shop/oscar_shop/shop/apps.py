from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "oscar_shop.shop"
    label = "shop"
