module profile_ext/test/gateway/gosender

go 1.19
