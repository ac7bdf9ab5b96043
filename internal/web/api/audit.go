package api

// auditRoutes are the API's audit routes.
var auditRoutes = []route{}
