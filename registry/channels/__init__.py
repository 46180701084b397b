"""Delivery channels beside e-mail (DingTalk and WeCom robots, 浙政钉 work notices) and the in-app inbox."""
