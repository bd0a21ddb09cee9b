SECRET_KEY = "django-insecure-9x!f3k@2m#p0q7r8s1t"
DEBUG = False
