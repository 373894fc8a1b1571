from django.http import HttpResponse


def home(request):
    return HttpResponse("")


def change_detail(request, number):
    return HttpResponse("")
