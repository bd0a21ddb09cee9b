from django.utils.safestring import mark_safe


def comment_html(comment):
    return mark_safe("<p class='comment'>%s</p>" % comment.body)
