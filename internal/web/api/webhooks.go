package api

// webhookRoutes are the API's webhooks routes.
var webhookRoutes = []route{}
