"""structlearn.analysis"""
