"""Links shown only to readers who may follow them.

The permissions come from the view behind the URL (recorded by
`oms.lib.auth.permission_required`), so no template repeats them:

    {% link 'customers:detail' order.customer_id %}{{ order.customer.name }}{% endlink %}
        a link for readers the customer page lets in, the plain name for the others
    {% url_if_allowed 'orders:entry' as entry_url %}
    {% if entry_url %}<a class="button" href="{{ entry_url }}">…</a>{% endif %}
        `{% url %}` that gives "" to readers the view would refuse
"""

from __future__ import annotations

from django import template
from django.urls import resolve, reverse
from django.utils.html import format_html

register = template.Library()


def may_open(user, url: str) -> bool:
    """Whether `user` passes the permission check of the view at `url`."""
    match = resolve(url.split("?", 1)[0])
    required = getattr(match.func, "required_permissions", None)
    if required is None:  # the admin site guards itself: staff only
        return match.namespace == "admin" and user.is_active and user.is_staff
    return getattr(match.func, "is_public", False) or (
        user.is_authenticated and user.has_perms(required))


@register.simple_tag(takes_context=True)
def url_if_allowed(context, view_name: str, *args, **kwargs) -> str:
    url = reverse(view_name, args=args, kwargs=kwargs)
    return url if may_open(context["request"].user, url) else ""


class _LinkNode(template.Node):
    def __init__(self, view_name, args, nodelist):
        self.view_name, self.args, self.nodelist = view_name, args, nodelist

    def render(self, context):
        content = self.nodelist.render(context)
        url = url_if_allowed(context, self.view_name.resolve(context),
                             *[arg.resolve(context) for arg in self.args])
        return format_html('<a href="{}">{}</a>', url, content) if url else content


@register.tag
def link(parser, token):
    """`{% link 'view:name' arg ... %}content{% endlink %}`: see the module docstring."""
    bits = token.split_contents()[1:]
    if not bits:
        raise template.TemplateSyntaxError("{% link %} needs a view name")
    nodelist = parser.parse(("endlink",))
    parser.delete_first_token()
    return _LinkNode(parser.compile_filter(bits[0]),
                     [parser.compile_filter(bit) for bit in bits[1:]], nodelist)
