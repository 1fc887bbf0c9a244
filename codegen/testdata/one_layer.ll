; vggsim: one-layer, input 3x6x6, output 4x6x6
; 2 steps, 2 kernel functions (below), scratch 576 bytes, weights 512 bytes
; int vggsim_one_layer_forward(const float *in, float *out, int batch, const float *weights, float *scratch)
;
target triple = "x86_64-pc-linux-gnu"

@conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu.rows.lo = internal constant [3 x i64] [i64 1, i64 0, i64 0]
@conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu.rows.hi = internal constant [3 x i64] [i64 6, i64 6, i64 5]
@conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu.cols.lo = internal constant [3 x i64] [i64 1, i64 0, i64 0]
@conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu.cols.hi = internal constant [3 x i64] [i64 6, i64 6, i64 5]

; generic kernel, called by 1 step(s):
;   conv+relu
define internal void @conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu(float* noalias %out, float* noalias %in0, float* noalias %weight, float* noalias %bias) nounwind noinline {
entry:
	br label %co.body1

co.body1:
	%co1 = phi i64 [ 0, %entry ], [ %71, %oy.exit19 ]
	%0 = getelementptr inbounds float, float* %bias, i64 %co1
	%1 = load float, float* %0, align 4
	br label %oy.body2

oy.body2:
	%oy2 = phi i64 [ 0, %co.body1 ], [ %9, %ox.exit4 ]
	br label %ox.body3

ox.body3:
	%ox3 = phi i64 [ 0, %oy.body2 ], [ %7, %ox.body3 ]
	%2 = mul nsw i64 %co1, 6
	%3 = add nsw i64 %2, %oy2
	%4 = mul nsw i64 %3, 6
	%5 = add nsw i64 %4, %ox3
	%6 = getelementptr inbounds float, float* %out, i64 %5
	store float %1, float* %6, align 4
	%7 = add nsw nuw i64 %ox3, 1
	%8 = icmp slt i64 %7, 6
	br i1 %8, label %ox.body3, label %ox.exit4

ox.exit4:
	%9 = add nsw nuw i64 %oy2, 1
	%10 = icmp slt i64 %9, 6
	br i1 %10, label %oy.body2, label %oy.exit5

oy.exit5:
	br label %ci.body6

ci.body6:
	%ci6 = phi i64 [ 0, %oy.exit5 ], [ %56, %ky.exit14 ]
	%11 = mul nsw i64 %co1, 3
	%12 = add nsw i64 %11, %ci6
	%13 = mul nsw i64 %12, 9
	br label %ky.body7

ky.body7:
	%ky7 = phi i64 [ 0, %ci.body6 ], [ %54, %kx.exit13 ]
	br label %kx.body8

kx.body8:
	%kx8 = phi i64 [ 0, %ky.body7 ], [ %31, %oy.exit10 ]
	%14 = mul nsw i64 %ky7, 3
	%15 = add nsw i64 %14, %kx8
	%16 = add nsw i64 %13, %15
	%17 = getelementptr inbounds float, float* %weight, i64 %16
	%18 = load float, float* %17, align 4
	%19 = getelementptr inbounds [3 x i64], [3 x i64]* @conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu.rows.lo, i64 0, i64 %ky7
	%20 = load i64, i64* %19, align 8
	%21 = getelementptr inbounds [3 x i64], [3 x i64]* @conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu.rows.hi, i64 0, i64 %ky7
	%22 = load i64, i64* %21, align 8
	%23 = icmp slt i64 %20, %22
	br i1 %23, label %oy.body9, label %oy.exit10

oy.body9:
	%oy10 = phi i64 [ %20, %kx.body8 ], [ %52, %ox.exit12 ]
	%24 = sub i64 %ky7, 1
	%25 = add nsw i64 %oy10, %24
	%26 = getelementptr inbounds [3 x i64], [3 x i64]* @conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu.cols.lo, i64 0, i64 %kx8
	%27 = load i64, i64* %26, align 8
	%28 = getelementptr inbounds [3 x i64], [3 x i64]* @conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu.cols.hi, i64 0, i64 %kx8
	%29 = load i64, i64* %28, align 8
	%30 = icmp slt i64 %27, %29
	br i1 %30, label %ox.body11, label %ox.exit12

oy.exit10:
	%31 = add nsw nuw i64 %kx8, 1
	%32 = icmp slt i64 %31, 3
	br i1 %32, label %kx.body8, label %kx.exit13

ox.body11:
	%ox12 = phi i64 [ %27, %oy.body9 ], [ %50, %ox.body11 ]
	%33 = sub i64 %kx8, 1
	%34 = add nsw i64 %ox12, %33
	%35 = mul nsw i64 %ci6, 6
	%36 = add nsw i64 %35, %25
	%37 = mul nsw i64 %36, 6
	%38 = add nsw i64 %37, %34
	%39 = getelementptr inbounds float, float* %in0, i64 %38
	%40 = load float, float* %39, align 4
	%41 = mul nsw i64 %co1, 6
	%42 = add nsw i64 %41, %oy10
	%43 = mul nsw i64 %42, 6
	%44 = add nsw i64 %43, %ox12
	%45 = getelementptr inbounds float, float* %out, i64 %44
	%46 = load float, float* %45, align 4
	%47 = fmul float %18, %40
	%48 = fadd float %46, %47
	%49 = getelementptr inbounds float, float* %out, i64 %44
	store float %48, float* %49, align 4
	%50 = add nsw nuw i64 %ox12, 1
	%51 = icmp slt i64 %50, %29
	br i1 %51, label %ox.body11, label %ox.exit12

ox.exit12:
	%52 = add nsw nuw i64 %oy10, 1
	%53 = icmp slt i64 %52, %22
	br i1 %53, label %oy.body9, label %oy.exit10

kx.exit13:
	%54 = add nsw nuw i64 %ky7, 1
	%55 = icmp slt i64 %54, 3
	br i1 %55, label %ky.body7, label %ky.exit14

ky.exit14:
	%56 = add nsw nuw i64 %ci6, 1
	%57 = icmp slt i64 %56, 3
	br i1 %57, label %ci.body6, label %ci.exit15

ci.exit15:
	br label %oy.body16

oy.body16:
	%oy16 = phi i64 [ 0, %ci.exit15 ], [ %69, %ox.exit18 ]
	br label %ox.body17

ox.body17:
	%ox17 = phi i64 [ 0, %oy.body16 ], [ %67, %ox.body17 ]
	%58 = mul nsw i64 %co1, 6
	%59 = add nsw i64 %58, %oy16
	%60 = mul nsw i64 %59, 6
	%61 = add nsw i64 %60, %ox17
	%62 = getelementptr inbounds float, float* %out, i64 %61
	%63 = load float, float* %62, align 4
	%64 = fcmp olt float %63, 0.0
	%65 = select i1 %64, float 0.0, float %63
	%66 = getelementptr inbounds float, float* %out, i64 %61
	store float %65, float* %66, align 4
	%67 = add nsw nuw i64 %ox17, 1
	%68 = icmp slt i64 %67, 6
	br i1 %68, label %ox.body17, label %ox.exit18

ox.exit18:
	%69 = add nsw nuw i64 %oy16, 1
	%70 = icmp slt i64 %69, 6
	br i1 %70, label %oy.body16, label %oy.exit19

oy.exit19:
	%71 = add nsw nuw i64 %co1, 1
	%72 = icmp slt i64 %71, 4
	br i1 %72, label %co.body1, label %co.exit20

co.exit20:
	ret void
}

; reorder kernel, called by 1 step(s):
;   copy the output to the caller
define internal void @copy_144(float* noalias %out, float* noalias %in) nounwind noinline {
entry:
	br label %i.body1

i.body1:
	%i1 = phi i64 [ 0, %entry ], [ %3, %i.body1 ]
	%0 = getelementptr inbounds float, float* %in, i64 %i1
	%1 = load float, float* %0, align 4
	%2 = getelementptr inbounds float, float* %out, i64 %i1
	store float %1, float* %2, align 4
	%3 = add nsw nuw i64 %i1, 1
	%4 = icmp slt i64 %3, 144
	br i1 %4, label %i.body1, label %i.exit2

i.exit2:
	ret void
}

; the network, image by image; steps:
;     0 conv+relu                                conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu
;     1 copy the output to the caller            copy_144
define i32 @vggsim_one_layer_forward(float* readonly %in, float* %out, i32 %batch, float* readonly %weights, float* %scratch) nounwind {
entry:
	%w.conv.weight = getelementptr inbounds float, float* %weights, i64 0
	%w.conv.bias = getelementptr inbounds float, float* %weights, i64 112
	%buf0.input = getelementptr inbounds float, float* %scratch, i64 0
	%buf1.conv = getelementptr inbounds float, float* %scratch, i64 0
	%0 = icmp slt i32 %batch, 1
	br i1 %0, label %bad_batch, label %image

image:
	%n = phi i32 [ 0, %entry ], [ %4, %image ]
	%1 = sext i32 %n to i64
	%2 = mul i64 %1, 108
	%image.in = getelementptr float, float* %in, i64 %2
	%3 = mul i64 %1, 144
	%image.out = getelementptr float, float* %out, i64 %3
	call void @conv3x3_s1_p1_g1_b_3x6x6_to_4x6x6_relu(float* %buf1.conv, float* %image.in, float* %w.conv.weight, float* %w.conv.bias)
	call void @copy_144(float* %image.out, float* %buf1.conv)
	%4 = add i32 %n, 1
	%5 = icmp slt i32 %4, %batch
	br i1 %5, label %image, label %done

bad_batch:
	ret i32 1

done:
	ret i32 0
}

; bytes of the weights blob payload
define i64 @vggsim_one_layer_weights_bytes() nounwind {
entry:
	ret i64 512
}

; bytes of scratch forward needs (any batch)
define i64 @vggsim_one_layer_scratch_bytes() nounwind {
entry:
	ret i64 576
}

; floats of one input image
define i64 @vggsim_one_layer_input_elems() nounwind {
entry:
	ret i64 108
}

; floats of one output image
define i64 @vggsim_one_layer_output_elems() nounwind {
entry:
	ret i64 144
}

; the blob layout's signature
define i64 @vggsim_one_layer_weights_signature() nounwind {
entry:
	ret i64 -6593356357888401706
}
