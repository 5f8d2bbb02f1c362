"""structlearn.models"""
