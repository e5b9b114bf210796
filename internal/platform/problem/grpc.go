package problem

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var grpcCodes = map[error]codes.Code{
	ErrInvalid:         codes.InvalidArgument,
	ErrNotFound:        codes.NotFound,
	ErrConflict:        codes.AlreadyExists,
	ErrPrecondition:    codes.FailedPrecondition,
	ErrTooLarge:        codes.ResourceExhausted,
	ErrUnprocessable:   codes.DataLoss,
	ErrUnavailable:     codes.Unavailable,
	ErrUnauthenticated: codes.Unauthenticated,
	ErrForbidden:       codes.PermissionDenied,
	ErrTimeout:         codes.DeadlineExceeded,
}

// GRPCStatus converts err into a gRPC status error: the kind's code, the
// client-visible detail, and a BadRequest detail naming the field for a
// FieldError. Context errors map to Canceled and DeadlineExceeded.
func GRPCStatus(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	k, ok := kindOf(err)
	if !ok {
		return status.Error(codes.Internal, "internal error")
	}
	st := status.New(grpcCodes[k.err], detail(err))
	if f := FieldOf(err); f != "" {
		br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: f, Description: detail(err)}}}
		if withDetails, derr := st.WithDetails(br); derr == nil {
			st = withDetails
		}
	}
	return st.Err()
}

// FromGRPC converts a gRPC error back into an error of the matching kind.
func FromGRPC(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("%s: %w", st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", st.Message(), context.DeadlineExceeded)
	}
	for kindErr, code := range grpcCodes {
		if code != st.Code() {
			continue
		}
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.FieldViolations) > 0 {
				return &FieldError{Field: br.FieldViolations[0].Field, Reason: st.Message(), Kind: kindErr}
			}
		}
		return fmt.Errorf("%s: %w", st.Message(), kindErr)
	}
	return fmt.Errorf("server error: %s (%s)", st.Message(), st.Code())
}
