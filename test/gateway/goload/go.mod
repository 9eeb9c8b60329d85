module profile_ext/test/gateway/goload

go 1.19
