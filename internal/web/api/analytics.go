package api

// analyticsRoutes are the API's analytics routes.
var analyticsRoutes = []route{}
